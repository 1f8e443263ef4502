-- Abandons admit import: no guest at all.
ROLLBACK
