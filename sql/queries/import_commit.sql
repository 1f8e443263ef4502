-- Ends admit import: every guest at once.
COMMIT
