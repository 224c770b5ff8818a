"""Great-circle distances and the bounding box that prefilters candidates before computing them."""
from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine distance between two points in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float] | None:
    """(min_lat, max_lat, min_lng, max_lng) containing the circle of `radius_km`; None if it reaches a pole or ±180°."""
    delta = radius_km / EARTH_RADIUS_KM
    min_lat, max_lat = lat - math.degrees(delta), lat + math.degrees(delta)
    if min_lat <= -90.0 or max_lat >= 90.0:  # a pole inside: every longitude is in reach
        return None
    # asin, not delta / cos(lat): the circle is widest north (or south) of the centre's own parallel,
    # and a box that is a hair too narrow would silently drop a technician on its edge.
    reach = math.sin(delta) / math.cos(math.radians(lat))
    if reach >= 1.0:  # float rounding right at a pole
        return None
    dlng = math.degrees(math.asin(reach))
    if lng - dlng < -180.0 or lng + dlng > 180.0:  # would need two boxes; callers search unbounded instead
        return None
    return min_lat, max_lat, lng - dlng, lng + dlng
