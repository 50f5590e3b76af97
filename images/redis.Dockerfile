# Redis from Debian, with the official redis image's interface: `redis-server [args]`.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY images/apt-install /usr/local/bin/apt-install
RUN apt-install redis-server && mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server"]
