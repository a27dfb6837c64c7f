"""The SQLAlchemy repositories behind `bot.storage_port`, one per kind of row, all on the one
session of a unit of work (`storage.unit_of_work`)."""
