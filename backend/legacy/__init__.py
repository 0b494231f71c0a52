"""The prototype's vaccine service and `/profile`, served over the real vaccination model."""
