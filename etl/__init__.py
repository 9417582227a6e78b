"""ETL: read, validate and load enforcement records into the DuckDB warehouse.

The only package that writes the warehouse (see etl.warehouse.write).
"""
