"""Match and merge: the people, vehicles and places that staged rows mention, resolved into entities.

``mentions`` unpivots the staged POLE columns into one row per mention; ``person_model``
scores pairs of person mentions with a trained Splink model; ``accuracy`` scores a clustering
against ground truth; ``outside_list`` links an analyst's file of people (``wmp link``).
"""
