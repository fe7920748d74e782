#!/bin/sh
# expect: 3
pgsse-publish -s demo_id=x demos demo_installed
