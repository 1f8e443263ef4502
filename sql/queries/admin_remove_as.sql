-- An organiser removed from the web. $1 acting admin id, $2 the organiser's id.
SELECT outcome, email FROM admit_admin_remove_as($1::integer, $2::integer)
