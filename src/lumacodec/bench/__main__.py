"""``python -m lumacodec.bench``: the benchmark without the rest of the CLI."""

from .cli import bench_command

if __name__ == "__main__":
    bench_command()
