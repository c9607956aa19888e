"""The officer search service: HTTP API and web page over the published snapshot (``app.create_app``),
with roles and need-to-know filtering (``access``, ``roles.yaml``, ``users.yaml``), the audit log of
every consultation (``audit``) and the move to each newly published snapshot (``served``)."""
