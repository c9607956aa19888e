-- The person 360 view (restricted): one row per person entity with everything the hub knows of
-- them: the golden record, every name and identifier given, addresses as written and the places
-- linked, vehicles kept or driven, events with the roles played, and warnings (warrants, firearms
-- certificates, missing episodes), active ones first.
WITH
aliases AS (
  SELECT entity_id, list_transform(list_sort(list({'r': r, 'v': {'name': value, 'feeds': feeds, 'first_seen': first_seen,
           'last_seen': last_seen, 'mentions': mentions}})), lambda x: x.v) AS aliases
  FROM (SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY mentions DESC, value) AS r
        FROM entities.person_aliases)
  GROUP BY entity_id
),
identifiers AS (
  SELECT entity_id, list_transform(list_sort(list({'r': r, 'v': {'attribute': attribute, 'value': value, 'feeds': feeds,
           'first_seen': first_seen, 'last_seen': last_seen, 'mentions': mentions}})), lambda x: x.v) AS identifiers
  FROM (SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY attribute, mentions DESC, value) AS r
        FROM entities.person_identifiers)
  GROUP BY entity_id
),
addresses AS (
  SELECT entity_id, list_transform(list_sort(list({'r': r, 'v': {'address': value, 'feeds': feeds, 'first_seen': first_seen,
           'last_seen': last_seen, 'mentions': mentions}})), lambda x: x.v) AS addresses
  FROM (SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY last_seen DESC NULLS LAST, value) AS r
        FROM entities.person_addresses)
  GROUP BY entity_id
),
places AS (
  SELECT person_entity_id AS entity_id,
         list_transform(list_sort(list({'r': r, 'v': {'location_entity_id': location_entity_id,
           'relationship': relationship, 'address': address, 'postcode': postcode, 'uprn': uprn,
           'first_time': first_time, 'last_time': last_time}})), lambda x: x.v) AS places
  FROM (
    SELECT *, row_number() OVER (PARTITION BY person_entity_id
                                 ORDER BY last_time DESC NULLS LAST, location_entity_id, relationship) AS r
    FROM (
      SELECT pl.person_entity_id, pl.location_entity_id, pl.relationship, l.address, l.postcode, l.uprn,
             min(pl.event_time) AS first_time, max(pl.event_time) AS last_time
      FROM entities.pole_person_location pl LEFT JOIN entities.location_golden l ON l.entity_id = pl.location_entity_id
      GROUP BY ALL
    )
  ) GROUP BY person_entity_id
),
vehicles AS (
  SELECT person_entity_id AS entity_id,
         list_transform(list_sort(list({'r': r, 'v': {'vehicle_entity_id': vehicle_entity_id,
           'relationship': relationship, 'registration': registration, 'make': make, 'model': model,
           'colour': colour, 'first_time': first_time, 'last_time': last_time}})), lambda x: x.v) AS vehicles
  FROM (
    SELECT *, row_number() OVER (PARTITION BY person_entity_id
                                 ORDER BY last_time DESC NULLS LAST, vehicle_entity_id, relationship) AS r
    FROM (
      SELECT pv.person_entity_id, pv.vehicle_entity_id, pv.relationship, v.registration, v.make, v.model, v.colour,
             min(pv.event_time) AS first_time, max(pv.event_time) AS last_time
      FROM entities.pole_person_vehicle pv LEFT JOIN entities.vehicle_golden v ON v.entity_id = pv.vehicle_entity_id
      GROUP BY ALL
    )
  ) GROUP BY person_entity_id
),
person_events AS (
  SELECT entity_id, event_key, feed, event_id, event_type, event_time, list_sort(list(DISTINCT role)) AS roles
  FROM entities.pole_entity_events WHERE entity_kind = 'person' GROUP BY ALL
),
events AS (
  SELECT entity_id,
         list_transform(list_sort(list({'r': r, 'v': {'event_key': event_key, 'feed': feed, 'event_id': event_id,
           'event_type': event_type, 'event_time': event_time, 'roles': roles}})), lambda x: x.v) AS events
  FROM (SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY event_time DESC NULLS LAST, event_key) AS r
        FROM person_events)
  GROUP BY entity_id
),
warnings AS (
  SELECT entity_id,
         list_transform(list_sort(list({'r': r, 'v': {'warning': warning, 'feed': feed, 'reference': event_id,
           'since': event_time, 'status': status, 'active': active, 'details': details}})), lambda x: x.v) AS warnings,
         count(*) FILTER (WHERE active) AS active_warnings
  FROM (
    SELECT e.entity_id, e.feed, e.event_id, e.event_time, w.warning, w.status, w.active, w.details,
           row_number() OVER (PARTITION BY e.entity_id
                              ORDER BY w.active DESC, e.event_time DESC NULLS LAST, e.event_key, w.warning) AS r
    FROM person_events e JOIN views.warning_records w ON w.event_key = e.event_key AND list_contains(e.roles, w.role)
  ) GROUP BY entity_id
)
SELECT g.*,
       coalesce(a.aliases, []) AS aliases,
       coalesce(i.identifiers, []) AS identifiers,
       coalesce(ad.addresses, []) AS addresses,
       coalesce(p.places, []) AS places,
       coalesce(v.vehicles, []) AS vehicles,
       coalesce(e.events, []) AS events,
       coalesce(w.warnings, []) AS warnings,
       coalesce(w.active_warnings, 0) AS active_warnings
FROM entities.person_golden g
LEFT JOIN aliases a USING (entity_id)
LEFT JOIN identifiers i USING (entity_id)
LEFT JOIN addresses ad USING (entity_id)
LEFT JOIN places p USING (entity_id)
LEFT JOIN vehicles v USING (entity_id)
LEFT JOIN events e USING (entity_id)
LEFT JOIN warnings w USING (entity_id)
ORDER BY g.entity_id
