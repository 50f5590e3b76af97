# Toxiproxy: the server that scripts/setup.sh built with `go install`
# (bin/toxiproxy-server), laid out like ghcr.io/shopify/toxiproxy: /toxiproxy
# as the entrypoint, so the harness runs either image with the same arguments.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY bin/toxiproxy-server /toxiproxy
EXPOSE 8474
ENTRYPOINT ["/toxiproxy"]
CMD ["-host=0.0.0.0"]
