def test_home_answers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Learning from what went wrong" in response.data
