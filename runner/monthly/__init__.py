"""The monthly report to management (SOP 6.2-6.3, SOP-IT-GEN-001, upd6): one command, built from sealed evidence.

``period`` (the month in the company's time zone), ``sources`` (what the month's evidence is: the verified
ledger, the sealed run records, check reports, change records, the asset register), ``sections`` (one function
per section of the report), ``charts`` (inline SVG), ``report`` (build, render, seal, deliver).
"""
