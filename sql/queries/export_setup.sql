-- Run once on an export's own connection: no JIT compilation (it costs more than it saves on a
-- single streamed scan, about 0.7 s at 100,000 rows); room for the export's one sort in memory
-- rather than on disk (32 MB of the PostgreSQL server's memory, for this connection only: the
-- attendance export of 100,000 rows sorts about 15 MB); and ISO dates whatever the server's
-- DateStyle, for the timestamp::text casts of the export queries.
SELECT set_config('jit', 'off', false), set_config('work_mem', '32MB', false),
       set_config('datestyle', 'ISO, YMD', false)
