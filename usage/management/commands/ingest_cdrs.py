"""``manage.py ingest_cdrs PATH…``: take operator CDR files (or every file of folders) exactly once, with a
progress bar, in batches like the beat task (``usage.ingestion``)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from usage.ingestion import Source, batches, ingest_batch, network_of


class Command(BaseCommand):
    help = "Intègre des fichiers de CDR opérateur (Orange, Bouygues Telecom), chacun une seule fois."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="fichiers ou dossiers de CDR")

    def handle(self, *args, paths, **options):
        files: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files += sorted(p for p in path.iterdir() if p.is_file() and network_of(p.name))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"Introuvable : {raw}")
        totals = {"taken": 0, "duplicates": 0, "quarantined": 0, "alerts": 0}
        with tqdm(total=sum(f.stat().st_size for f in files), unit="o", unit_scale=True, disable=None) as bar:
            # Files of one network that follow each other are taken in batches (one transaction each).
            for batch in batches(files):
                reports = ingest_batch([Source.of_path(path) for path in batch])
                for report in reports:
                    for key in ("taken", "duplicates", "quarantined"):
                        totals[key] += getattr(report, key)
                    bar.write(report.summary())
                totals["alerts"] += reports[-1].alerts
                bar.update(sum(path.stat().st_size for path in batch))
        self.stdout.write(
            f"{len(files)} fichier(s) : {totals['taken']} enregistrement(s) intégré(s), "
            f"{totals['duplicates']} doublon(s), {totals['quarantined']} en quarantaine, "
            f"{totals['alerts']} alerte(s)."
        )
