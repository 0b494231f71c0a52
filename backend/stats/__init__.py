"""Statistics for operators: doses given, by day, center, city, vaccine or dose number."""
