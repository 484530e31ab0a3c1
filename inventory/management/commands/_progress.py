"""A tqdm progress bar fed by the import services' ``progress(phase, done, total)`` callback."""

from __future__ import annotations

from tqdm import tqdm

PHASES = {"check": "Vérification", "write": "Import"}


class TqdmProgress:
    def __init__(self, stream, *, disable: bool = False):
        self.stream = stream
        self.disable = disable
        self.bars: dict[str, tqdm] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        bar = self.bars.get(phase)
        if bar is None:
            bar = self.bars[phase] = tqdm(
                total=total,
                desc=PHASES.get(phase, phase),
                unit="ligne",
                file=self.stream,
                disable=self.disable,
            )
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
