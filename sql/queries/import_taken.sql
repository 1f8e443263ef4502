-- Who holds an email that admit import found taken (inside the import's transaction). $1 event
-- id, $2 email. in_file: the holder is a guest of this same file (written by this transaction);
-- line: its line in the file (admit import's nonces are "import-line-N-TOKEN"), or NULL.
SELECT r.xmin = pg_current_xact_id()::xid AS in_file,
       substring(r.form_nonce FROM '^import-line-([0-9]+)-') AS line
FROM registrations r
WHERE r.event_id = $1::integer AND lower(r.email) = lower($2) AND r.status <> 'cancelled'
