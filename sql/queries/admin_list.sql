-- admit admin list: every admin with the events they may see ('*': all).
SELECT a.email, CASE WHEN a.all_events THEN '*' ELSE
       coalesce((SELECT string_agg(e.slug, ' ' ORDER BY e.slug) FROM admin_events ae
                 JOIN events e ON e.id = ae.event_id WHERE ae.admin_id = a.id), '') END,
       (SELECT count(*) FROM admin_sessions s WHERE s.admin_id = a.id AND s.expires_at > now())
FROM admins a ORDER BY lower(a.email)
