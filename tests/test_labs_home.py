"""The course's labs on the gallery home: a second group, "Labs", under the demos (issue 26)."""
import demos


def test_with_labs_the_home_shows_demos_and_labs_as_two_groups(gallery, monkeypatch):
    monkeypatch.setattr(demos, "LAB_NAMES", ("atari",))  # any registered module shows the layout
    app = gallery.run()
    assert not app.exception
    assert [header.value for header in app.header] == ["Demos", "Labs"]
    assert [heading.value for heading in app.subheader][-1] == "🕹️ Atari Agents (PPO)"  # under "Labs"
    links = [link.proto.label for link in app.get("page_link")]
    assert links.count("Open lab") == 1 and links.count("Open demo") == len(demos.CARDS) - 1


def test_without_labs_the_home_shows_the_demos_without_group_headings(gallery, monkeypatch):
    monkeypatch.setattr(demos, "LAB_NAMES", ())
    app = gallery.run()
    assert not app.exception
    assert [header.value for header in app.header] == []
    assert [link.proto.label for link in app.get("page_link")] == ["Open demo"] * len(demos.CARDS)


def test_a_lab_whose_card_cannot_be_read_says_it_is_a_lab(gallery, monkeypatch):
    monkeypatch.setattr(demos, "CARDS", demos.read_cards(("style_transfer", "no_such_lab")))
    monkeypatch.setattr(demos, "LAB_NAMES", ("no_such_lab",))
    app = gallery.run()
    assert not app.exception
    assert [warning.value for warning in app.warning] == ["This lab could not be loaded on this server; "
                                                          "the others work."]
