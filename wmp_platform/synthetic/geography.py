"""The force area as the synthetic estate draws it: Local Policing Areas, postcode districts,
localities, streets and the building names found on them.

District centres are approximate; every generated point is kept inside the box real crime
points fall in (latitude 52.38 to 52.66, longitude -2.21 to -1.42).
"""

from __future__ import annotations

from dataclasses import dataclass

LATITUDE_RANGE = (52.38, 52.66)
LONGITUDE_RANGE = (-2.21, -1.42)


@dataclass(frozen=True)
class PolicingArea:
    name: str
    local_authority_code: str
    weight: float  # share of the population living there


@dataclass(frozen=True)
class District:
    """A postcode district: where it is, what its places are called and its post town."""

    code: str
    area: str
    town: str
    localities: tuple[str, ...]
    latitude: float
    longitude: float


POLICING_AREAS: dict[str, PolicingArea] = {
    area.name: area
    for area in (
        PolicingArea("Birmingham", "E08000025", 0.39),
        PolicingArea("Coventry", "E08000026", 0.12),
        PolicingArea("Dudley", "E08000027", 0.11),
        PolicingArea("Sandwell", "E08000028", 0.11),
        PolicingArea("Solihull", "E08000029", 0.07),
        PolicingArea("Walsall", "E08000030", 0.09),
        PolicingArea("Wolverhampton", "E08000031", 0.11),
    )
}

_DISTRICTS = (
    # Birmingham
    ("B1", "Birmingham", "Birmingham", ("City Centre", "Jewellery Quarter"), 52.479, -1.908),
    ("B2", "Birmingham", "Birmingham", ("City Centre",), 52.479, -1.897),
    ("B3", "Birmingham", "Birmingham", ("City Centre", "Jewellery Quarter"), 52.484, -1.902),
    ("B4", "Birmingham", "Birmingham", ("City Centre", "Gun Quarter"), 52.484, -1.891),
    ("B5", "Birmingham", "Birmingham", ("Digbeth", "Highgate"), 52.470, -1.892),
    ("B6", "Birmingham", "Birmingham", ("Aston", "Witton"), 52.503, -1.885),
    ("B7", "Birmingham", "Birmingham", ("Nechells", "Vauxhall"), 52.492, -1.868),
    ("B8", "Birmingham", "Birmingham", ("Saltley", "Washwood Heath", "Ward End"), 52.490, -1.835),
    ("B9", "Birmingham", "Birmingham", ("Bordesley Green", "Bordesley"), 52.476, -1.842),
    ("B10", "Birmingham", "Birmingham", ("Small Heath",), 52.468, -1.852),
    ("B11", "Birmingham", "Birmingham", ("Sparkhill", "Sparkbrook", "Tyseley"), 52.458, -1.861),
    ("B12", "Birmingham", "Birmingham", ("Balsall Heath", "Highgate"), 52.459, -1.885),
    ("B13", "Birmingham", "Birmingham", ("Moseley", "Billesley"), 52.438, -1.875),
    ("B14", "Birmingham", "Birmingham", ("Kings Heath", "Yardley Wood", "Druids Heath"), 52.423, -1.893),
    ("B15", "Birmingham", "Birmingham", ("Edgbaston",), 52.466, -1.921),
    ("B16", "Birmingham", "Birmingham", ("Ladywood", "Edgbaston"), 52.478, -1.935),
    ("B17", "Birmingham", "Birmingham", ("Harborne",), 52.459, -1.957),
    ("B18", "Birmingham", "Birmingham", ("Hockley", "Winson Green"), 52.494, -1.922),
    ("B19", "Birmingham", "Birmingham", ("Lozells", "Newtown"), 52.500, -1.903),
    ("B20", "Birmingham", "Birmingham", ("Handsworth", "Handsworth Wood"), 52.515, -1.920),
    ("B21", "Birmingham", "Birmingham", ("Handsworth",), 52.505, -1.938),
    ("B23", "Birmingham", "Birmingham", ("Erdington", "Stockland Green"), 52.528, -1.840),
    ("B24", "Birmingham", "Birmingham", ("Erdington", "Tyburn"), 52.521, -1.824),
    ("B25", "Birmingham", "Birmingham", ("Yardley",), 52.468, -1.814),
    ("B26", "Birmingham", "Birmingham", ("Sheldon",), 52.461, -1.777),
    ("B27", "Birmingham", "Birmingham", ("Acocks Green",), 52.446, -1.821),
    ("B28", "Birmingham", "Birmingham", ("Hall Green",), 52.432, -1.837),
    ("B29", "Birmingham", "Birmingham", ("Selly Oak", "Weoley Castle", "Bournville"), 52.435, -1.937),
    ("B30", "Birmingham", "Birmingham", ("Stirchley", "Bournville", "Cotteridge"), 52.420, -1.921),
    ("B31", "Birmingham", "Birmingham", ("Northfield", "Longbridge"), 52.411, -1.969),
    ("B32", "Birmingham", "Birmingham", ("Quinton", "Bartley Green"), 52.452, -1.992),
    ("B33", "Birmingham", "Birmingham", ("Stechford", "Kitts Green"), 52.483, -1.786),
    ("B34", "Birmingham", "Birmingham", ("Shard End",), 52.494, -1.764),
    ("B35", "Birmingham", "Birmingham", ("Castle Vale",), 52.520, -1.790),
    ("B36", "Birmingham", "Birmingham", ("Hodge Hill", "Castle Bromwich"), 52.505, -1.780),
    ("B37", "Birmingham", "Birmingham", ("Chelmsley Wood", "Marston Green"), 52.478, -1.730),
    ("B38", "Birmingham", "Birmingham", ("Kings Norton",), 52.403, -1.932),
    ("B42", "Birmingham", "Birmingham", ("Perry Barr", "Great Barr"), 52.531, -1.905),
    ("B43", "Birmingham", "Birmingham", ("Great Barr",), 52.555, -1.931),
    ("B44", "Birmingham", "Birmingham", ("Kingstanding", "Perry Common"), 52.546, -1.884),
    ("B72", "Birmingham", "Sutton Coldfield", ("Maney", "Wylde Green"), 52.553, -1.818),
    ("B73", "Birmingham", "Sutton Coldfield", ("Boldmere", "New Oscott"), 52.555, -1.840),
    ("B74", "Birmingham", "Sutton Coldfield", ("Four Oaks", "Streetly"), 52.590, -1.840),
    ("B75", "Birmingham", "Sutton Coldfield", ("Mere Green", "Falcon Lodge"), 52.580, -1.800),
    ("B76", "Birmingham", "Sutton Coldfield", ("Walmley", "Minworth"), 52.540, -1.780),
    # Sandwell
    ("B64", "Sandwell", "Cradley Heath", ("Cradley Heath", "Old Hill"), 52.472, -2.082),
    ("B65", "Sandwell", "Rowley Regis", ("Rowley Regis", "Blackheath"), 52.486, -2.050),
    ("B66", "Sandwell", "Smethwick", ("Smethwick", "Bearwood"), 52.495, -1.965),
    ("B67", "Sandwell", "Smethwick", ("Smethwick",), 52.485, -1.972),
    ("B68", "Sandwell", "Oldbury", ("Langley", "Warley"), 52.480, -2.010),
    ("B69", "Sandwell", "Oldbury", ("Oldbury", "Tividale"), 52.500, -2.030),
    ("B70", "Sandwell", "West Bromwich", ("West Bromwich", "Greets Green"), 52.520, -1.995),
    ("B71", "Sandwell", "West Bromwich", ("Hateley Heath", "Charlemont"), 52.535, -1.985),
    # Dudley
    ("B62", "Dudley", "Halesowen", ("Halesowen", "Hasbury"), 52.455, -2.030),
    ("B63", "Dudley", "Halesowen", ("Cradley", "Halesowen"), 52.450, -2.060),
    ("DY1", "Dudley", "Dudley", ("Dudley", "Priory"), 52.515, -2.085),
    ("DY2", "Dudley", "Dudley", ("Netherton", "Dudley Wood"), 52.490, -2.080),
    ("DY3", "Dudley", "Dudley", ("Sedgley", "Gornal"), 52.540, -2.120),
    ("DY5", "Dudley", "Brierley Hill", ("Brierley Hill", "Quarry Bank"), 52.478, -2.120),
    ("DY6", "Dudley", "Kingswinford", ("Kingswinford", "Wall Heath"), 52.495, -2.170),
    ("DY8", "Dudley", "Stourbridge", ("Stourbridge", "Wollaston"), 52.455, -2.148),
    ("DY9", "Dudley", "Stourbridge", ("Lye", "Pedmore"), 52.455, -2.115),
    # Solihull
    ("B90", "Solihull", "Solihull", ("Shirley", "Monkspath"), 52.400, -1.820),
    ("B91", "Solihull", "Solihull", ("Solihull", "Sharmans Cross"), 52.412, -1.778),
    ("B92", "Solihull", "Solihull", ("Olton", "Elmdon"), 52.432, -1.760),
    ("B93", "Solihull", "Solihull", ("Knowle", "Dorridge"), 52.392, -1.735),
    ("B94", "Solihull", "Solihull", ("Hockley Heath", "Cheswick Green"), 52.388, -1.790),
    # Wolverhampton
    ("WV1", "Wolverhampton", "Wolverhampton", ("City Centre", "Whitmore Reans"), 52.586, -2.125),
    ("WV2", "Wolverhampton", "Wolverhampton", ("Blakenhall", "All Saints"), 52.573, -2.125),
    ("WV3", "Wolverhampton", "Wolverhampton", ("Penn Fields", "Bradmore"), 52.580, -2.150),
    ("WV4", "Wolverhampton", "Wolverhampton", ("Penn", "Merry Hill"), 52.560, -2.140),
    ("WV6", "Wolverhampton", "Wolverhampton", ("Tettenhall", "Aldersley"), 52.598, -2.170),
    ("WV9", "Wolverhampton", "Wolverhampton", ("Pendeford",), 52.625, -2.150),
    ("WV10", "Wolverhampton", "Wolverhampton", ("Bushbury", "Low Hill", "Fallings Park"), 52.610, -2.110),
    # Coventry
    ("CV1", "Coventry", "Coventry", ("City Centre", "Hillfields"), 52.408, -1.510),
    ("CV2", "Coventry", "Coventry", ("Wyken", "Walsgrave"), 52.420, -1.470),
    ("CV3", "Coventry", "Coventry", ("Cheylesmore", "Whitley", "Stivichall"), 52.393, -1.500),
    ("CV4", "Coventry", "Coventry", ("Canley", "Tile Hill"), 52.398, -1.560),
    ("CV5", "Coventry", "Coventry", ("Earlsdon", "Allesley"), 52.410, -1.550),
    ("CV6", "Coventry", "Coventry", ("Foleshill", "Radford", "Holbrooks"), 52.430, -1.500),
    # Walsall
    ("WS1", "Walsall", "Walsall", ("Walsall", "Caldmore"), 52.583, -1.980),
    ("WS2", "Walsall", "Walsall", ("Birchills", "Leamore"), 52.593, -2.000),
    ("WS3", "Walsall", "Walsall", ("Bloxwich", "Blakenall"), 52.615, -2.000),
    ("WS4", "Walsall", "Walsall", ("Rushall",), 52.610, -1.960),
    ("WS5", "Walsall", "Walsall", ("Park Hall", "Delves"), 52.570, -1.955),
    ("WS9", "Walsall", "Walsall", ("Aldridge", "Pelsall"), 52.605, -1.920),
    ("WS10", "Walsall", "Wednesbury", ("Darlaston", "Wednesbury"), 52.565, -2.030),
)

DISTRICTS: tuple[District, ...] = tuple(District(*row) for row in _DISTRICTS)

STREET_STEMS = (
    "Church", "Station", "Victoria", "Park", "High", "Mill", "Green", "Oak", "School", "Queens",
    "Kings", "Albert", "Grange", "Manor", "Chester", "Stratford", "Warwick", "Coventry", "Windsor", "York",
    "Elm", "Ash", "Birch", "Willow", "Beech", "Cedar", "Holly", "Chestnut", "Maple", "Hawthorn",
    "Springfield", "Highfield", "Westfield", "Fairfield", "Broad", "New", "Old", "North", "South", "Mount",
    "Hill", "Vale", "Brook", "Meadow", "Orchard", "Forest", "Heath", "Moor", "Lodge", "Hall",
    "Stanley", "Franklin", "Cavendish", "Gladstone", "Wellington", "Nelson", "Cromwell", "Milton", "Shakespeare",
    "Tennyson",
    "Coleridge", "Wordsworth", "Byron", "Kingsley", "Somerset", "Dorset", "Devon", "Cornwall", "Stafford", "Worcester",
    "Lichfield", "Tamworth", "Kenilworth", "Bromsgrove", "Redditch", "Alcester", "Pershore", "Evesham", "Ludlow",
    "Hereford",
    "Canal", "Wharf", "Foundry", "Forge", "Anvil", "Brickfield", "Colliery", "Tannery", "Chapel", "Abbey",
)
STREET_TYPES = (
    ("Road", 0.35), ("Street", 0.18), ("Lane", 0.1), ("Avenue", 0.08), ("Close", 0.08), ("Drive", 0.07),
    ("Way", 0.04), ("Grove", 0.04), ("Crescent", 0.03), ("Place", 0.02), ("Terrace", 0.01),
)
# How records abbreviate street types.
STREET_ABBREVIATIONS = {
    "Road": "Rd", "Street": "St", "Lane": "Ln", "Avenue": "Ave", "Close": "Cl", "Drive": "Dr",
    "Grove": "Gr", "Crescent": "Cres", "Place": "Pl", "Terrace": "Terr",
}

BLOCK_NAMES = (
    "Mayfield Court", "Kingsway House", "Elmwood Court", "Riverside House", "Canal View", "Victoria Court",
    "Parkside", "Chestnut Court", "Highgate House", "Regent Court", "Windmill House", "Meadow View",
)
COMMERCIAL_NAMES = (
    "The Red Lion", "The Crown", "The Swan", "The Plough", "The Royal Oak", "The Bull", "The White Hart",
    "Corner Stores", "Post Office", "Community Centre", "Medical Centre", "Leisure Centre", "Library",
    "Primary School", "Petrol Station", "Retail Park", "Shopping Centre", "Multi-Storey Car Park",
    "Convenience Store", "Takeaway", "Barbers", "Launderette", "Mini Market", "Pharmacy", "Bookmakers",
)

# Postcode inward letters exclude C, I, K, M, O and V.
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def clamp_point(latitude: float, longitude: float) -> tuple[float, float]:
    """The point moved, if need be, to the nearest place inside the force-area box."""
    return (
        min(max(latitude, LATITUDE_RANGE[0]), LATITUDE_RANGE[1]),
        min(max(longitude, LONGITUDE_RANGE[0]), LONGITUDE_RANGE[1]),
    )
