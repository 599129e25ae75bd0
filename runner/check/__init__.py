"""Security baseline audit (`sop check`): collection, evaluation, reports."""
