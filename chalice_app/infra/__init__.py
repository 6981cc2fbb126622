"""tgpipe's AWS side; each command runs from the repository's root, as the Makefile's AWS targets do:

* :mod:`chalice_app.infra.template`: the CloudFormation templates read, composed, resolved, checked;
* :mod:`chalice_app.infra.build_layer`: the ETL's pyarrow layer (`python -m chalice_app.infra.build_layer`);
* :mod:`chalice_app.infra.package`: a stage packaged for CloudFormation (`... -m chalice_app.infra.package`);
* :mod:`chalice_app.infra.stack`: a deployed stage's settings and teardown (`... -m chalice_app.infra.stack`).

Nothing is imported here, so ``python -m`` runs each module once, as ``__main__``.
"""

__all__ = ["build_layer", "package", "stack", "template"]
