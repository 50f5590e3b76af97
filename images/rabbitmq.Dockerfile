# RabbitMQ from Debian, with the official rabbitmq image's interface:
# `rabbitmq-server` as user rabbitmq, logs on stdout, data in /var/lib/rabbitmq,
# configuration from RABBITMQ_CONFIG_FILE.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY images/apt-install /usr/local/bin/apt-install
RUN apt-install rabbitmq-server \
    && : >/etc/rabbitmq/rabbitmq-env.conf \
    && chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq
ENV PATH=/usr/lib/rabbitmq/bin:$PATH \
    HOME=/var/lib/rabbitmq \
    RABBITMQ_LOGS=-
WORKDIR /var/lib/rabbitmq
USER rabbitmq
EXPOSE 5672
CMD ["rabbitmq-server"]
