# The system under test: one image for the API, the RPC services and the
# consumers (the command picks the service; FEED_* variables configure it).
# Its Python dependencies come as wheels made on the host for this image's
# Python (harness/containers/wheels.py), so the build needs no package index.
ARG BASE=debian:bookworm-slim
FROM ${BASE} AS python
COPY images/apt-install /usr/local/bin/apt-install
RUN apt-install python3 python3-venv && python3 -m venv /opt/venv

FROM python
COPY .cache/containers/wheels /tmp/wheels
RUN /opt/venv/bin/pip install -q --no-index --no-cache-dir --find-links /tmp/wheels \
        -r /tmp/wheels/requirements.txt \
    && rm -rf /tmp/wheels
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY system_under_test /app/system_under_test
# Bytecode made once here: a restarted service (a heal) must not compile its
# sources again at every start (PYTHONDONTWRITEBYTECODE keeps reading it).
RUN python -m compileall -q /app/system_under_test
CMD ["python", "-m", "system_under_test.api"]
