-- The location 360 view (restricted): one row per place: the golden record, the addresses it was
-- written as, the people linked to it (home, address), its events (the latest 100 and counts
-- per feed) and its recent incidents: events with the place as the scene in the 28 days up to
-- the hub's newest event (the snapshot's "now", so an old extract still has a recent past).
WITH
as_of AS (SELECT max(event_time) AS newest FROM entities.pole_events),
addresses AS (
  SELECT entity_id, list_transform(list_sort(list({'r': r, 'v': {'address': value, 'feeds': feeds, 'first_seen': first_seen,
           'last_seen': last_seen, 'mentions': mentions}})), lambda x: x.v) AS addresses
  FROM (SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY mentions DESC, value) AS r
        FROM entities.location_addresses)
  GROUP BY entity_id
),
people AS (
  SELECT location_entity_id AS entity_id,
         list_transform(list_sort(list({'r': r, 'v': {'person_entity_id': person_entity_id,
           'relationship': relationship, 'forename': forename, 'surname': surname, 'dob': dob,
           'first_time': first_time, 'last_time': last_time}})), lambda x: x.v) AS people
  FROM (
    SELECT *, row_number() OVER (PARTITION BY location_entity_id
                                 ORDER BY last_time DESC NULLS LAST, person_entity_id, relationship) AS r
    FROM (
      SELECT pl.location_entity_id, pl.person_entity_id, pl.relationship, p.forename, p.surname, p.dob,
             min(pl.event_time) AS first_time, max(pl.event_time) AS last_time
      FROM entities.pole_person_location pl LEFT JOIN entities.person_golden p ON p.entity_id = pl.person_entity_id
      GROUP BY ALL
    )
  ) GROUP BY location_entity_id
),
place_events AS (
  SELECT entity_id, event_key, feed, event_id, event_type, event_time, list_sort(list(DISTINCT role)) AS roles
  FROM entities.pole_entity_events WHERE entity_kind = 'location' GROUP BY ALL
),
events AS (
  SELECT entity_id, count(*) AS events_total,
         list_transform(list_sort(list({'r': r, 'v': {'event_key': event_key, 'feed': feed, 'event_id': event_id,
           'event_type': event_type, 'event_time': event_time, 'roles': roles}}) FILTER (WHERE r <= 100)),
           lambda x: x.v) AS events
  FROM (SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY event_time DESC NULLS LAST, event_key) AS r
        FROM place_events)
  GROUP BY entity_id
),
event_counts AS (
  SELECT entity_id, list_transform(list_sort(list({'r': r, 'v': {'feed': feed, 'events': events}})), lambda x: x.v)
           AS event_counts
  FROM (SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY events DESC, feed) AS r
        FROM (SELECT entity_id, feed, count(*) AS events FROM place_events GROUP BY ALL))
  GROUP BY entity_id
),
recent AS (
  SELECT entity_id,
         list_transform(list_sort(list({'r': r, 'v': {'event_key': event_key, 'feed': feed, 'event_id': event_id,
           'event_type': event_type, 'event_time': event_time}})), lambda x: x.v) AS recent_incidents
  FROM (
    SELECT e.*, row_number() OVER (PARTITION BY e.entity_id ORDER BY e.event_time DESC, e.event_key) AS r
    FROM place_events e, as_of
    WHERE list_contains(e.roles, 'scene') AND e.event_time > as_of.newest - INTERVAL 28 DAY
  ) GROUP BY entity_id
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
