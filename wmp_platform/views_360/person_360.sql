-- The person 360 view (restricted): one row per person entity with everything the hub knows of
-- them: the golden record, every name and identifier given, addresses as written and the places
-- linked, vehicles kept or driven, events with the roles played, and warnings (warrants, firearms
-- certificates, missing episodes), active ones first.
WITH
aliases AS (
  SELECT entity_id, list({'name': value, 'feeds': feeds, 'first_seen': first_seen, 'last_seen': last_seen,
                          'mentions': mentions} ORDER BY mentions DESC, value) AS aliases
  FROM entities.person_aliases GROUP BY entity_id
),
identifiers AS (
  SELECT entity_id, list({'attribute': attribute, 'value': value, 'feeds': feeds, 'first_seen': first_seen,
                          'last_seen': last_seen, 'mentions': mentions} ORDER BY attribute, mentions DESC, value)
           AS identifiers
  FROM entities.person_identifiers GROUP BY entity_id
),
addresses AS (
  SELECT entity_id, list({'address': value, 'feeds': feeds, 'first_seen': first_seen, 'last_seen': last_seen,
                          'mentions': mentions} ORDER BY last_seen DESC NULLS LAST, value) AS addresses
  FROM entities.person_addresses GROUP BY entity_id
),
places AS (
  SELECT person_entity_id AS entity_id,
         list({'location_entity_id': location_entity_id, 'relationship': relationship, 'address': address,
               'postcode': postcode, 'uprn': uprn, 'first_time': first_time, 'last_time': last_time}
              ORDER BY last_time DESC NULLS LAST, location_entity_id) AS places
  FROM (
    SELECT pl.person_entity_id, pl.location_entity_id, pl.relationship, l.address, l.postcode, l.uprn,
           min(pl.event_time) AS first_time, max(pl.event_time) AS last_time
    FROM entities.pole_person_location pl LEFT JOIN entities.location_golden l ON l.entity_id = pl.location_entity_id
    GROUP BY ALL
  ) GROUP BY person_entity_id
),
vehicles AS (
  SELECT person_entity_id AS entity_id,
         list({'vehicle_entity_id': vehicle_entity_id, 'relationship': relationship, 'registration': registration,
               'make': make, 'model': model, 'colour': colour, 'first_time': first_time, 'last_time': last_time}
              ORDER BY last_time DESC NULLS LAST, vehicle_entity_id) AS vehicles
  FROM (
    SELECT pv.person_entity_id, pv.vehicle_entity_id, pv.relationship, v.registration, v.make, v.model, v.colour,
           min(pv.event_time) AS first_time, max(pv.event_time) AS last_time
    FROM entities.pole_person_vehicle pv LEFT JOIN entities.vehicle_golden v ON v.entity_id = pv.vehicle_entity_id
    GROUP BY ALL
  ) GROUP BY person_entity_id
),
person_events AS (
  SELECT entity_id, event_key, feed, event_id, event_type, event_time, list_sort(list(DISTINCT role)) AS roles
  FROM entities.pole_entity_events WHERE entity_kind = 'person' GROUP BY ALL
),
events AS (
  SELECT entity_id,
         list({'event_key': event_key, 'feed': feed, 'event_id': event_id, 'event_type': event_type,
               'event_time': event_time, 'roles': roles} ORDER BY event_time DESC NULLS LAST, event_key) AS events
  FROM person_events GROUP BY entity_id
),
warnings AS (
  SELECT e.entity_id,
         list({'warning': w.warning, 'feed': e.feed, 'reference': e.event_id, 'since': e.event_time,
               'status': w.status, 'active': w.active, 'details': w.details}
              ORDER BY w.active DESC, e.event_time DESC NULLS LAST, e.event_key) AS warnings,
         count(*) FILTER (WHERE w.active) AS active_warnings
  FROM person_events e JOIN views.warning_records w ON w.event_key = e.event_key AND list_contains(e.roles, w.role)
  GROUP BY e.entity_id
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
