"""The resilience report: what each test did to the stack and what it saw.

Code lives here; each run writes its output next to it, in reports/<run-id>/,
and reports/latest points at the newest run (both are ignored by git).
"""
