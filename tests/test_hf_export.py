import datasets

from catalog.hf_export import export_hf
from tests.factories import make_table


def test_exports_of_different_versions_never_share_a_datasets_cache(store, tmp_path):
    """`datasets` caches a folder with card `configs` by folder name + data_files patterns,
    not content; two exports into folders of the same name must still load their own rows."""
    store.publish("d", make_table(12, seed=1))
    store.publish("d", make_table(7, seed=2))
    for version, folder in (("v1", tmp_path / "a" / "hf"), ("v2", tmp_path / "b" / "hf")):
        export_hf(store, f"d@{version}", folder)
        table = store.read(f"d@{version}")
        for kind in sorted(set(table["kind"].to_pylist())):
            expected = sorted(i for i, k in zip(table["id"].to_pylist(), table["kind"].to_pylist(), strict=True) if k == kind)
            assert sorted(datasets.load_dataset(str(folder), kind, split="train")["id"]) == expected


def test_export_is_deterministic_for_a_version(store, tmp_path):
    store.publish("d", make_table(5))
    a = export_hf(store, "d@v1", tmp_path / "a")
    b = export_hf(store, "d@v1", tmp_path / "b")
    files_a = sorted(p.relative_to(a).as_posix() for p in a.rglob("*.parquet"))
    assert files_a == sorted(p.relative_to(b).as_posix() for p in b.rglob("*.parquet"))
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files_a)


def test_blobs_export_as_the_image_feature_and_trajectory_features_stay_declared(tmp_path):
    from PIL import Image

    from stores.schema import TRAJECTORY_SCHEMA
    from tests.view_episodes import view_store

    store, ref = view_store()
    out = export_hf(store, ref, tmp_path / "hf")
    blobs = datasets.load_dataset(str(out), "blobs", split="train")
    stored = store.read(ref, table="blobs")
    assert blobs.num_rows == stored.num_rows and isinstance(blobs.features["image"], datasets.Image)
    first = blobs[0]
    assert isinstance(first["image"], Image.Image) and first["image"].size == (1280, 800)
    raw = dict(zip(stored["id"].to_pylist(), stored["bytes"].to_pylist(), strict=True))
    undecoded = blobs.cast_column("image", datasets.Image(decode=False))[0]["image"]
    assert undecoded["bytes"] == raw[first["id"]] and undecoded["path"] == f"{first['id']}.png"
    gui = datasets.load_dataset(str(out), "gui", split="train")
    assert gui.features == datasets.Features.from_arrow_schema(TRAJECTORY_SCHEMA)
