"""The POLE hub's assets: the trained person model, person, vehicle and location entities, and
the links between them and events (engine: wmp_platform.hub)."""

from pathlib import Path

import dagster as dg

from resources import WAREHOUSE_WRITER, LakeResource
from wmp_platform import hub
from wmp_platform.declarations import load_declarations
from wmp_platform.matching.accuracy import cluster_accuracy, estate_truth
from wmp_platform.matching.clusters import Run
from wmp_platform.matching.person_model import person_model_charts
from wmp_platform.warehouse import open_warehouse

FEEDS = dg.AssetKey(["warehouse", "feeds"])
PERSON_MODEL = dg.AssetKey(["entities", "person_model"])
ENTITY_KEYS = {kind: dg.AssetKey(["entities", kind]) for kind in hub.KINDS}
HUB = dict(group_name="entities", owners=WAREHOUSE_WRITER["owners"], pool=WAREHOUSE_WRITER["pool"],
           tags={"sensitivity": "restricted"})
# Accuracy targets against the synthetic estate's ground truth: a false merge is worse than a miss.
TARGET_PRECISION, TARGET_F1 = 0.995, 0.98


def _feeds():
    return load_declarations(Path(__file__).parent / "feeds")


@dg.asset(key=PERSON_MODEL, deps=[FEEDS], kinds={"splink", "json"}, **HUB,
          automation_condition=dg.AutomationCondition.on_cron("0 2 * * 0", "Europe/London"))
def person_model(lake: LakeResource) -> dg.MaterializeResult:
    """The person-matching model: Splink settings with m and u probabilities trained, without
    labels, on every staged person mention. Retrained weekly (Sundays 02:00), not every cycle;
    each refresh of entities/person only predicts with it. Versioned by a hash of settings and
    parameters; kept under models/person/ in the data folder."""
    model, version, mentions = hub.train_and_save_person_model(lake.layout, _feeds())
    charts = person_model_charts(model)
    return dg.MaterializeResult(metadata={
        "model_version": version,
        "mentions_trained_on": mentions,
        "path": dg.MetadataValue.path(str(hub.person_model_path(lake.layout))),
        "match_weights_chart": dg.MetadataValue.json(charts["match_weights"]),
        "m_u_parameters_chart": dg.MetadataValue.json(charts["m_u_parameters"]),
    })


class PersonBuild(dg.Config):
    full_rebuild: bool = False  # score every pair again (ids are kept where clusters persist)


# What the nightly rebuild runs with.
FULL_REBUILD = {"ops": {"entities__person": {"config": {"full_rebuild": True}}}}
# What each match-and-merge cycle refreshes: everything in the hub but the model, retrained weekly.
MERGE_SELECTION = dg.AssetSelection.groups("entities") - dg.AssetSelection.assets(PERSON_MODEL)


@dg.asset(key=ENTITY_KEYS["person"], deps=[FEEDS, PERSON_MODEL], kinds={"duckdb", "splink"}, **HUB,
          check_specs=[dg.AssetCheckSpec("accuracy", asset=ENTITY_KEYS["person"],
                                         description="Precision and F1 against the synthetic estate's ground truth.")])
def person(context: dg.AssetExecutionContext, config: PersonBuild, lake: LakeResource) -> dg.MaterializeResult:
    """Person entities (entities.person_*): mentions from every staged feed scored by the trained
    model (the shipped default until one is trained), clustered with stable ids and guards
    against giant clusters and weak bridges; golden records, aliases, addresses, identifiers,
    the review queue, split and merge history, and a cross-reference from every source record
    to its entity with the match evidence. Incremental when only new partitions arrived."""
    layout = lake.layout
    model, source = hub.current_person_model(layout)
    with open_warehouse(layout.warehouse) as con:
        done = hub.build_persons(con, layout, _feeds(), Run(context.run_id), model, full=config.full_rebuild)
        counts = hub.entity_counts(con, "person")
        assignments = con.sql("SELECT mention_id, entity_id AS cluster_id FROM person_assignments").to_arrow_table()
    metadata = {"dagster/row_count": counts["entities"], "model": source, **counts,
                **{k: v for k, v in done.items() if k not in counts}}
    check = dg.AssetCheckResult(check_name="accuracy", passed=True, metadata={"ground_truth": "none in the data folder"})
    if (layout.ground_truth / "persons.parquet").exists():
        accuracy = cluster_accuracy(assignments, estate_truth(layout, "person"))
        scores = {"precision": round(accuracy.precision, 4), "recall": round(accuracy.recall, 4), "f1": round(accuracy.f1, 4)}
        metadata.update({f"cluster_{k}": v for k, v in scores.items()})
        check = dg.AssetCheckResult(
            check_name="accuracy", passed=accuracy.precision >= TARGET_PRECISION and accuracy.f1 >= TARGET_F1,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={**scores, "target_precision": TARGET_PRECISION, "target_f1": TARGET_F1},
        )
    return dg.MaterializeResult(metadata=metadata, check_results=[check])


@dg.asset(key=ENTITY_KEYS["vehicle"], deps=[FEEDS], kinds={"duckdb"}, **HUB)
def vehicle(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Vehicle entities (entities.vehicle_*): registrations normalised and resolved against the
    keeper register, with ANPR misreads linked only when the evidence agrees; golden records and
    history. Rebuilt each time, ids kept where vehicles persist."""
    return _places_or_vehicles(context, lake, "vehicle")


@dg.asset(key=ENTITY_KEYS["location"], deps=[FEEDS], kinds={"duckdb"}, **HUB)
def location(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Location entities (entities.location_*): UPRN where given, otherwise address and postcode
    resolved against the gazetteer, then coordinates; golden records and history. Rebuilt each
    time, ids kept where places persist."""
    return _places_or_vehicles(context, lake, "location")


def _places_or_vehicles(context: dg.AssetExecutionContext, lake: LakeResource, kind: str) -> dg.MaterializeResult:
    with open_warehouse(lake.layout.warehouse) as con:
        done = hub.build_places_or_vehicles(con, lake.layout, _feeds(), Run(context.run_id), kind)
        counts = hub.entity_counts(con, kind)
    return dg.MaterializeResult(metadata={"dagster/row_count": counts["entities"], **counts,
                                          **{k: v for k, v in done.items() if k not in counts}})


@dg.asset(key=["entities", "pole_links"], deps=list(ENTITY_KEYS.values()), kinds={"duckdb"}, **HUB)
def pole_links(lake: LakeResource) -> dg.MaterializeResult:
    """The POLE relationships (entities.pole_*): every event with the person, vehicle and
    location entities in it and their roles (suspect, victim, keeper, ...); keepers and drivers
    of vehicles; people's homes."""
    with open_warehouse(lake.layout.warehouse) as con:
        counts = hub.build_pole_links(con, lake.layout, _feeds())
    return dg.MaterializeResult(metadata={"dagster/row_count": counts["pole_entity_events"], **counts})
