"""Helpdesk service levels (SOP 1, SOP-IT-GEN-001): policy, business-hours calendar, export readers, evaluation."""
