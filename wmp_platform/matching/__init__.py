"""Match and merge: the people, vehicles and places that staged rows mention, resolved into entities.

``mentions`` unpivots the staged POLE columns into one row per mention; ``person_model``
scores pairs of person mentions with a trained Splink model; ``accuracy`` scores a clustering
against ground truth; ``outside_list`` links an analyst's file of people (``wmp link``).

``clusters`` turns match edges into entities with stable ids (guards, review decisions, split and
merge history, incremental link); ``vehicles`` and ``locations`` resolve vehicles against the
keeper register and places against the gazetteer; ``golden`` builds golden records and the
history of names, addresses and identifiers; ``relationships`` links entities to events and
to each other (POLE).
"""
