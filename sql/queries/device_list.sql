-- The scanners of an event as a JSON array, newest first; NULL when there is no such event.
-- $1 event slug.
SELECT (admit_device_list_json(NULL, $1) -> 'devices')::text
