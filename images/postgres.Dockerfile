# PostgreSQL 15 from Debian, with the official postgres image's interface:
# POSTGRES_HOST_AUTH_METHOD, PGDATA, `postgres [-c ...]` as user postgres,
# stopped with SIGINT (a "fast" shutdown).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY images/apt-install /usr/local/bin/apt-install
# No cluster from the package: the entrypoint makes one in PGDATA at first start.
RUN mkdir -p /etc/postgresql-common \
    && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf \
    && apt-install postgresql-15
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
RUN mkdir -p "$PGDATA" /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
    && chmod 700 "$PGDATA"
COPY images/postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
