"""What runs in Celery's processes: the task base class, the result backend, beat's scheduler,
the publish recorder (signals) and the stats snapshot a worker pushes."""
