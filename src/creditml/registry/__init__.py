"""The one package that talks to MLflow: tracking, registry, gates, review, promotion, audit."""
