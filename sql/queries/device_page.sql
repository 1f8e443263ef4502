-- The organisers' devices page: the event and its scanners as JSON ({event, devices}); NULL when
-- there is no such event or the admin may not see it. $1 admin id, $2 event slug.
SELECT admit_device_list_json($1::integer, $2)::text
