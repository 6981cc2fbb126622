"""tgpipe's Chalice project (app.py, .chalice/) and, in :mod:`chalice_app.infra`, its CloudFormation and
deploy helpers. A package only so that ``python -m chalice_app.infra.<module>`` runs from the checkout;
Chalice itself loads app.py from this folder as the top-level module ``app``."""
