-- The badges of an event: one row per confirmed registration (the event's id alone, with NULLs,
-- when it has none), sorted by family name as a badge table at the door is. The organisation
-- type in words, and the consents not given. No row when there is no such event (or list), or
-- when admin $3 (NULL from the shell: no restriction) may not see it. $1 slug, $2 a check-in
-- list's name (NULL: everyone), $4 one registration's id (NULL: all of them).
SELECT e.id, r.id, r.reissue, r.given_name, r.family_name, r.organisation,
       CASE r.organisation_type WHEN 'industry' THEN 'Industry' WHEN 'research' THEN 'Research'
            WHEN 'public_body' THEN 'Public body' WHEN 'association' THEN 'Association'
            WHEN 'other' THEN 'Other' END,
       -- The consents not given (or withdrawn): "✗" and the question's words (cut to 60
       -- characters), so that a photographer sees "✗ Photos of me may be published".
       coalesce((SELECT string_agg('✗ ' || regexp_replace(left(q.label, 60), '[[:cntrl:]]', ' ',
                                                          'g'), E'\n' ORDER BY q.position, q.id)
                 FROM event_questions q
                 LEFT JOIN registration_answers a ON a.question_id = q.id
                     AND a.registration_id = r.id
                 WHERE q.event_id = e.id AND q.kind = 'consent' AND q.removed_at IS NULL
                   AND NOT coalesce(a.value = 'yes' AND a.withdrawn_at IS NULL, false)), '')
FROM events e
LEFT JOIN checkin_lists l ON l.event_id = e.id AND l.name = $2::text
LEFT JOIN registrations r ON r.event_id = e.id AND r.status = 'confirmed'
    AND ($4::integer IS NULL OR r.id = $4::integer)
    AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM registration_lists rl
                                     WHERE rl.registration_id = r.id AND rl.list_id = l.id))
WHERE e.slug = $1::text AND ($3::integer IS NULL OR admit_admin_may($3::integer, e.id))
  AND ($2::text IS NULL OR l.id IS NOT NULL)
ORDER BY lower(r.family_name), lower(r.given_name), r.id
