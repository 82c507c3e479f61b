from devstack import template


def test_short_form_tags_become_intrinsics():
    tpl = template.load()
    bucket = tpl["Resources"]["MediaBucket"]["Properties"]
    assert bucket["BucketName"] == {"Fn::Sub": "echomate-${Stage}-media-${AWS::AccountId}"}
    assert tpl["Outputs"]["UserPoolArn"]["Value"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
    assert tpl["Resources"]["UserPoolClient"]["Properties"]["UserPoolId"] == {"Ref": "UserPool"}


def test_resolve_substitutes_refs_and_conditions():
    value = {
        "A": {"Fn::Sub": "x-${Stage}-${AWS::AccountId}"},
        "B": {"Ref": "Pool"},
        "C": {"Fn::If": ["IsProd", "ACTIVE", "INACTIVE"]},
        "D": [{"Ref": "Pool"}],
    }
    refs = {"Stage": "local", "AWS::AccountId": "1", "Pool": "p-1"}
    assert template.resolve(value, refs, {"IsProd": False}) == {
        "A": "x-local-1",
        "B": "p-1",
        "C": "INACTIVE",
        "D": ["p-1"],
    }


def test_table_has_the_keys_and_indexes_the_code_uses():
    from chalicelib.keys import INDEX_KEYS, TTL_ATTRIBUTE

    table = template.load()["Resources"]["Table"]["Properties"]
    indexes = {
        i["IndexName"]: tuple(k["AttributeName"] for k in i["KeySchema"])
        for i in table["GlobalSecondaryIndexes"]
    }
    assert indexes == {name: pair for name, pair in INDEX_KEYS.items() if name}
    assert tuple(k["AttributeName"] for k in table["KeySchema"]) == INDEX_KEYS[None]
    assert table["TimeToLiveSpecification"]["AttributeName"] == TTL_ATTRIBUTE
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_every_function_has_an_errors_alarm():
    import json
    from pathlib import Path

    config = json.loads((Path(__file__).parents[2] / ".chalice" / "config.json").read_text())
    names = {  # as chalice names them: the API handler is <app>-<stage>
        f"{config['app_name']}-${{Stage}}" + ("" if fn == "api_handler" else f"-{fn}")
        for fn in config["lambda_functions"]
    }
    alarmed = {
        dimension["Value"]["Fn::Sub"]
        for resource in template.load()["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"]["MetricName"] == "Errors"
        for dimension in resource["Properties"]["Dimensions"]
    }
    assert alarmed == names
