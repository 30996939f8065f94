module github.com/AndrewDonelson/strata/l2redis

go 1.24
