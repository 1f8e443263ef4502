-- The answers of a guest just imported (admit import, inside its transaction): $1 the guest's
-- access token, $2 the answers ({"question id": "value"}, checked like the form's).
SELECT admit_answers_save(r.id, 'created', $2::jsonb) FROM registrations r WHERE r.token = $1
