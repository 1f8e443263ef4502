-- The question columns of registrations.csv (admit_export_questions). $1 event id.
SELECT header FROM admit_export_questions($1::integer)
