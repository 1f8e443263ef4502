-- The e-mail outbox's backlog, for /metrics (admit_outbox_backlog): messages not yet sent nor
-- given up (pending or being sent), and the age in seconds of the oldest of them (0 when none).
SELECT count(*)::bigint,
       coalesce(extract(epoch FROM now() - min(created_at)), 0)::double precision
FROM mail_outbox WHERE state IN ('pending', 'sending')
