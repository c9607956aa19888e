-- The location 360 view (restricted): one row per place: the golden record, the addresses it was
-- written as, the people linked to it (home, address), its events (the latest 100 and counts
-- per feed) and its recent incidents: events with the place as the scene in the 28 days up to
-- the hub's newest event (the snapshot's "now", so an old extract still has a recent past).
WITH
as_of AS (SELECT max(event_time) AS newest FROM entities.pole_events),
addresses AS (
  SELECT entity_id, list({'address': value, 'feeds': feeds, 'first_seen': first_seen, 'last_seen': last_seen,
                          'mentions': mentions} ORDER BY mentions DESC, value) AS addresses
  FROM entities.location_addresses GROUP BY entity_id
),
people AS (
  SELECT location_entity_id AS entity_id,
         list({'person_entity_id': person_entity_id, 'relationship': relationship, 'forename': forename,
               'surname': surname, 'dob': dob, 'first_time': first_time, 'last_time': last_time}
              ORDER BY last_time DESC NULLS LAST, person_entity_id) AS people
  FROM (
    SELECT pl.location_entity_id, pl.person_entity_id, pl.relationship, p.forename, p.surname, p.dob,
           min(pl.event_time) AS first_time, max(pl.event_time) AS last_time
    FROM entities.pole_person_location pl LEFT JOIN entities.person_golden p ON p.entity_id = pl.person_entity_id
    GROUP BY ALL
  ) GROUP BY location_entity_id
),
place_events AS (
  SELECT entity_id, event_key, feed, event_id, event_type, event_time, list_sort(list(DISTINCT role)) AS roles
  FROM entities.pole_entity_events WHERE entity_kind = 'location' GROUP BY ALL
),
events AS (
  SELECT entity_id, count(*) AS events_total,
         list({'event_key': event_key, 'feed': feed, 'event_id': event_id, 'event_type': event_type,
               'event_time': event_time, 'roles': roles} ORDER BY event_time DESC NULLS LAST, event_key)[1:100] AS events
  FROM place_events GROUP BY entity_id
),
event_counts AS (
  SELECT entity_id, list({'feed': feed, 'events': events} ORDER BY events DESC, feed) AS event_counts
  FROM (SELECT entity_id, feed, count(*) AS events FROM place_events GROUP BY ALL) GROUP BY entity_id
),
recent AS (
  SELECT e.entity_id,
         list({'event_key': e.event_key, 'feed': e.feed, 'event_id': e.event_id, 'event_type': e.event_type,
               'event_time': e.event_time} ORDER BY e.event_time DESC, e.event_key) AS recent_incidents
  FROM place_events e, as_of
  WHERE list_contains(e.roles, 'scene') AND e.event_time > as_of.newest - INTERVAL 28 DAY
  GROUP BY e.entity_id
)
SELECT g.*,
       coalesce(a.addresses, []) AS addresses,
       coalesce(p.people, []) AS people,
       coalesce(e.events_total, 0) AS events_total,
       coalesce(c.event_counts, []) AS event_counts,
       coalesce(e.events, []) AS events,
       coalesce(r.recent_incidents, []) AS recent_incidents
FROM entities.location_golden g
LEFT JOIN addresses a USING (entity_id)
LEFT JOIN people p USING (entity_id)
LEFT JOIN events e USING (entity_id)
LEFT JOIN event_counts c USING (entity_id)
LEFT JOIN recent r USING (entity_id)
ORDER BY g.entity_id
