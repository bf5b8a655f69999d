"""The dashboard: lessons by theme, region and year, actions and consultations, as charts with tables."""
