"""The benchmark: what the suite and the system under test cost, measured side by side.

`python -m bench` (or `./feedchaos bench`) starts the local stack once, measures
cold start, read and write latency through the proxies and direct, write
throughput, backlog drain, fault detection and recovery, memory, and reads the
suite's own overhead from a report; see docs/benchmark.md.
"""
