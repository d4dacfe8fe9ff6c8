"""yt-dlp collection rules (>= 720p, Creative Commons) and metadata, on recorded info.json files."""

from __future__ import annotations

import json
import shutil

from microverse.data.manifest import Manifest
from microverse.data.ytdlp import best_height, rejection

CC = "Creative Commons Attribution license (reuse allowed)"


def _info(video_id: str, *, license: str | None, height: int, width: int | None = None) -> dict:
    width = width or height * 16 // 9
    return {"id": video_id, "extractor": "youtube", "extractor_key": "Youtube", "title": f"Video {video_id}",
            "description": "Kinesin walking along a microtubule.", "channel": "CellViz", "upload_date": "20230415",
            "license": license, "view_count": 125000, "like_count": 3400, "comment_count": 210,
            "webpage_url": f"https://www.youtube.com/watch?v={video_id}",
            "formats": [{"format_id": "18", "vcodec": "avc1", "width": 640, "height": 360},
                        {"format_id": "137", "vcodec": "avc1", "width": width, "height": height},
                        {"format_id": "140", "vcodec": "none", "acodec": "mp4a"}]}


def test_rules():
    assert rejection(_info("a", license=CC, height=1080)) is None
    assert rejection(_info("b", license=None, height=1080)) == "licence not Creative Commons (none stated)"
    assert rejection(_info("c", license=CC, height=480)) == "resolution below 720p (480p)"
    # portrait 720x1280 is 720p: the short side counts
    assert best_height(_info("d", license=CC, height=1280, width=720)) == 720
    assert rejection(_info("e", license="Standard YouTube License", height=1080), creative_commons=False) is None


def test_recorded_info_files_are_filtered_and_metadata_kept(tmp_path, videos, cli):
    rec = tmp_path / "rec"
    rec.mkdir()
    infos = {"okvid": _info("okvid", license=CC, height=1080), "stdlic": _info("stdlic", license="Standard YouTube "
                                                                               "License", height=1080),
             "lowres": _info("lowres", license=CC, height=480), "nofile": _info("nofile", license=CC, height=720)}
    for name, info in infos.items():
        (rec / f"{name}.info.json").write_text(json.dumps(info))
    shutil.copy(videos["clean"], rec / "okvid.mp4")
    out = tmp_path / "ds"
    result = cli("data", "ingest", *sorted(rec.glob("*.info.json")), "--out", out)
    assert result.exit_code == 0, result.output
    sources = Manifest(out).read("sources").set_index("title")
    ok = sources.loc["Video okvid"]
    assert ok["ingest.keep"] and ok["probe.width"] == 160 and ok["origin"] == "yt-dlp"
    assert (ok["channel"], ok["upload_date"], ok["license"], ok["views"], ok["likes"], ok["comments"], ok["url"]) == (
        "CellViz", "2023-04-15", CC, 125000, 3400, 210, "https://www.youtube.com/watch?v=okvid")
    assert sources.loc["Video stdlic", "ingest.reason"] == "licence not Creative Commons (Standard YouTube License)"
    assert sources.loc["Video lowres", "ingest.reason"] == "resolution below 720p (480p)"
    assert sources.loc["Video nofile", "ingest.reason"] == "not downloaded (--info-only)"
    report = json.loads(cli("data", "report", out, "--format", "json").stdout)
    assert report["stages"]["ingest"]["reasons"] == {"licence not Creative Commons": 1, "not downloaded": 1,
                                                     "resolution below 720p": 1}
    # the accepted one goes on through the pipeline; metadata also flows into popularity plots
    assert cli("data", "split", out).exit_code == 0
    assert cli("data", "report", out, "--format", "html", "--out", tmp_path / "rep").exit_code == 0
    assert (tmp_path / "rep" / "popularity.png").is_file()
