"""ANPR back office: one row per camera read, the plate exactly as the camera read it.

ANPR is most of the estate's rows, so a day's reads are drawn together with numpy rather than
one case at a time; what each read says is the same as a per-read draw would give.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import numpy as np

from wmp_platform.synthetic import noise
from wmp_platform.synthetic.days import TRAFFIC_HOURS, Day
from wmp_platform.synthetic.feeds.base import Feed, Record, coordinate

MISREAD_RATE = 0.025
SPACED_RATE = 0.03  # some cameras report the plate with its space


class AnprFeed(Feed):
    name = "anpr"
    share = 0.42

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pool = self.population.sighted_vehicles
        self._plates = [v.registration.replace(" ", "") for v in pool]
        self._spaced = [v.registration for v in pool]
        self._vehicle_ids = [v.vehicle_id for v in pool]
        self._cameras = [
            (c.camera_id, c.description, c.direction, coordinate(c.site.latitude), coordinate(c.site.longitude),
             c.site.location_id)
            for c in self.population.cameras
        ]
        self._hour_weights = np.array(TRAFFIC_HOURS.probabilities)

    def records(self, day: Day, rng: random.Random, count: int) -> Iterator[Record]:
        """The day's reads in time order, as the back office exports them."""
        draw = np.random.default_rng(rng.getrandbits(64))
        hours = draw.choice(24, size=count, p=self._hour_weights)
        offsets = np.array([int(o.total_seconds()) for o in day.offsets])
        seconds = np.sort(hours * 3600 + draw.integers(0, 3600, count) - offsets[hours])
        vehicles = draw.integers(0, len(self._plates), count).tolist()
        cameras = draw.integers(0, len(self._cameras), count).tolist()
        rolls = draw.random(count).tolist()
        spreads = draw.random(count).tolist()
        lanes = draw.integers(1, 4, count).tolist()
        for i, second in enumerate(seconds.tolist()):
            self.serial += 1
            self.serial_today += 1
            car, roll = vehicles[i], rolls[i]
            plate = self._spaced[car] if roll < SPACED_RATE else self._plates[car]
            if roll > 1 - MISREAD_RATE:
                plate = noise.misread(rng, plate)
                confidence = 0.55 + spreads[i] * 0.3
            else:
                confidence = 0.85 + spreads[i] * 0.145
            camera_id, site, direction, latitude, longitude, location_id = self._cameras[cameras[i]]
            row = {
                "read_id": f"R{day.compact}{self.serial_today:08d}",
                "camera_id": camera_id,
                "camera_site": site,
                "read_at": day.midnight + timedelta(seconds=second),
                "plate_read": plate,
                "confidence": f"{confidence:.2f}",
                "lane": str(lanes[i]),
                "direction": direction,
                "camera_latitude": latitude,
                "camera_longitude": longitude,
            }
            yield self.finish(Record(row, [("vehicle", "sighted", self._vehicle_ids[car]),
                                           ("location", "camera", location_id)]))
