"""The suites and the pieces they are composed of, Jepsen-style.

client.py    the workload client: every operation recorded into a History
history.py   operations with invoke/complete times and ok/fail/info outcomes
state.py     the final state, read straight from PostgreSQL and Redis
checkers.py  verdicts over a history and a final state
contract.py  the resilience contract as data; the suites are parametrized from it
scenario.py  one test = workload + fault (nemesis) + checkers over the history
plugin.py    the pytest plugin: stack lifecycle, fixtures, report hooks
"""
