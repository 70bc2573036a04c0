"""Apache Spark through PySpark: the only module of OpenBureau that imports pyspark.

Installed with the ``spark`` extra (``pip install 'openbureau[spark]'``) and a Java runtime.
A local session is started when no session is active; on a cluster, start yours first and
this engine uses it. Splink's string-similarity functions come from the jar it ships.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyarrow as pa

from openbureau.engine.base import Engine, EngineName
from openbureau.errors import EngineUnavailableError

logger = logging.getLogger(__name__)


def _pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError as e:
        raise EngineUnavailableError(
            "the spark engine needs PySpark: pip install 'openbureau[spark]' (and a Java "
            "runtime, e.g. Debian's openjdk-17-jre-headless)"
        ) from e
    return pyspark.sql


class SparkEngine(Engine):
    name: EngineName = "spark"
    dialect = "spark"

    def __init__(
        self, *, memory_mb: int = 2048, tmp: Path | None = None, threads: int | None = None
    ) -> None:
        sql = _pyspark()
        from splink.backends.spark import similarity_jar_location

        active = sql.SparkSession.getActiveSession()
        if active is not None:
            # One JVM per process: reuse the session, but make sure Splink can checkpoint.
            self.spark = active
            self._owned = False
            if self.spark.sparkContext.getCheckpointDir() is None:
                import tempfile

                where = tmp or Path(tempfile.mkdtemp(prefix="openbureau-spark-"))
                self.spark.sparkContext.setCheckpointDir(str(where / "checkpoints"))
        else:
            builder = (
                sql.SparkSession.builder.master(f"local[{threads or '*'}]")
                .appName("openbureau")
                .config("spark.driver.memory", f"{int(memory_mb)}m")
                .config("spark.jars", similarity_jar_location())
                .config("spark.sql.shuffle.partitions", "8")
                .config("spark.default.parallelism", "8")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.session.timeZone", "UTC")
            )
            if tmp is not None:
                tmp.mkdir(parents=True, exist_ok=True)
                builder = builder.config("spark.local.dir", str(tmp))
            try:
                self.spark = builder.getOrCreate()
            except Exception as e:  # no JVM, bad JAVA_HOME...
                raise EngineUnavailableError(
                    f"could not start Spark ({type(e).__name__}): is a Java runtime installed?"
                ) from e
            self.spark.sparkContext.setLogLevel("ERROR")
            if tmp is not None:
                self.spark.sparkContext.setCheckpointDir(str(tmp / "checkpoints"))
            self._owned = True
        self._api: Any = None
        self._count = 0

    def splink_api(self) -> Any:
        if self._api is None:
            from splink.backends.spark import SparkAPI

            self._api = SparkAPI(  # type: ignore[no-untyped-call]
                spark_session=self.spark, num_partitions_on_repartition=8
            )
        return self._api

    def register(self, table: pa.Table, name: str) -> Any:
        frame = self.spark.createDataFrame(table.to_pandas())
        self._count += 1
        return self.splink_api().register(frame, table_name=f"{name}_{self._count}")

    def close(self) -> None:
        # A session we started stays up for the process (starting a JVM is slow, and Spark
        # cannot restart a stopped context cleanly); it ends with the interpreter.
        return None


__all__ = ["SparkEngine"]
