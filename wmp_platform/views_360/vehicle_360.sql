-- The vehicle 360 view (restricted): one row per vehicle entity: the golden record, every
-- registration it was read or typed as, its keepers and drivers over time, its sightings (ANPR
-- reads and sightings reported, the latest 100, with where) and the other events it was in.
WITH
registrations AS (
  SELECT entity_id, list_transform(list_sort(list({'r': r, 'v': {'registration': value, 'feeds': feeds,
           'first_seen': first_seen, 'last_seen': last_seen, 'mentions': mentions}})), lambda x: x.v) AS registrations
  FROM (SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY mentions DESC, value) AS r
        FROM entities.vehicle_identifiers WHERE attribute = 'registration')
  GROUP BY entity_id
),
keepers AS (
  SELECT vehicle_entity_id AS entity_id,
         list_transform(list_sort(list({'r': r, 'v': {'person_entity_id': person_entity_id,
           'relationship': relationship, 'forename': forename, 'surname': surname, 'dob': dob,
           'first_time': first_time, 'last_time': last_time, 'records': records}})), lambda x: x.v) AS keepers
  FROM (
    SELECT *, row_number() OVER (PARTITION BY vehicle_entity_id
                                 ORDER BY first_time NULLS LAST, person_entity_id, relationship) AS r
    FROM (
      SELECT pv.vehicle_entity_id, pv.person_entity_id, pv.relationship, p.forename, p.surname, p.dob,
             min(pv.event_time) AS first_time, max(pv.event_time) AS last_time, count(*) AS records
      FROM entities.pole_person_vehicle pv LEFT JOIN entities.person_golden p ON p.entity_id = pv.person_entity_id
      GROUP BY ALL
    )
  ) GROUP BY vehicle_entity_id
),
vehicle_events AS (
  SELECT entity_id, event_key, feed, event_id, event_type, event_time, list_sort(list(DISTINCT role)) AS roles
  FROM entities.pole_entity_events WHERE entity_kind = 'vehicle' GROUP BY ALL
),
event_places AS (
  SELECT DISTINCT ON (event_key) event_key, entity_id AS location_entity_id
  FROM entities.pole_entity_events WHERE entity_kind = 'location'
  ORDER BY event_key, entity_id
),
sightings AS (
  SELECT entity_id, count(*) AS sightings_total,
         list_transform(list_sort(list({'r': r, 'v': {'event_key': event_key, 'feed': feed, 'event_time': event_time,
           'location_entity_id': location_entity_id, 'address': address, 'postcode': postcode,
           'latitude': latitude, 'longitude': longitude}}) FILTER (WHERE r <= 100)), lambda x: x.v) AS sightings
  FROM (
    SELECT e.entity_id, e.event_key, e.feed, e.event_time, ep.location_entity_id, l.address, l.postcode,
           l.latitude, l.longitude,
           row_number() OVER (PARTITION BY e.entity_id ORDER BY e.event_time DESC NULLS LAST, e.event_key) AS r
    FROM vehicle_events e
    LEFT JOIN event_places ep USING (event_key)
    LEFT JOIN entities.location_golden l ON l.entity_id = ep.location_entity_id
    WHERE list_contains(e.roles, 'sighted')
  ) GROUP BY entity_id
),
events AS (
  SELECT entity_id,
         list_transform(list_sort(list({'r': r, 'v': {'event_key': event_key, 'feed': feed, 'event_id': event_id,
           'event_type': event_type, 'event_time': event_time, 'roles': roles}})), lambda x: x.v) AS events
  FROM (SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY event_time DESC NULLS LAST, event_key) AS r
        FROM vehicle_events WHERE NOT list_contains(roles, 'sighted'))
  GROUP BY entity_id
)
SELECT g.*,
       coalesce(r.registrations, []) AS registrations,
       coalesce(k.keepers, []) AS keepers,
       coalesce(s.sightings_total, 0) AS sightings_total,
       coalesce(s.sightings, []) AS sightings,
       coalesce(e.events, []) AS events
FROM entities.vehicle_golden g
LEFT JOIN registrations r USING (entity_id)
LEFT JOIN keepers k USING (entity_id)
LEFT JOIN sightings s USING (entity_id)
LEFT JOIN events e USING (entity_id)
ORDER BY g.entity_id
