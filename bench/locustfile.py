"""The visitors of bench/load.py (run by locust in a process of its own). Which one runs is
chosen on locust's command line; the paths they read come from the file named by
``LOAD_PATHS`` (written by bench/load.py from the database)."""

import json
import os
import random
from pathlib import Path

from locust import HttpUser, constant, task

PATHS = json.loads(Path(os.environ["LOAD_PATHS"]).read_text()) if "LOAD_PATHS" in os.environ else {}


class PublicReader(HttpUser):
    """A resident reading the public notices: the city's page, a district's, a township's or
    a village's, now and then a later page of the standing list."""

    wait_time = constant(0)

    @task
    def region_page(self):
        path = random.choice(PATHS["regions"])
        if random.random() < 0.2:
            self.client.get(f"{path}?page={random.randint(2, 5)}", name="/gongshi/[place]/?page=N")
        else:
            self.client.get(path, name="/gongshi/[place]/")


class Resident(HttpUser):
    """A resident opening the self-service pages (the lookup forms and the standards)."""

    wait_time = constant(0)

    @task
    def page(self):
        self.client.get(random.choice(PATHS["residents"]))


class LoginVisitor(HttpUser):
    """Staff opening the login page."""

    wait_time = constant(0)

    @task
    def login_page(self):
        self.client.get("/login/")
